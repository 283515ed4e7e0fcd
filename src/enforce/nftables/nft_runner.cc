#include "enforce/nftables/nft_runner.h"

#include <nftables/libnftables.h>

namespace pinhole {
namespace {

// Long batches make long error texts (libnftables echoes the command); keep
// the Status readable.
constexpr size_t kMaxErrorText = 2000;

struct CtxDeleter {
  void operator()(nft_ctx* ctx) const { nft_ctx_free(ctx); }
};
using CtxPtr = std::unique_ptr<nft_ctx, CtxDeleter>;

Result<CtxPtr> NewContext() {
  CtxPtr ctx(nft_ctx_new(NFT_CTX_DEFAULT));
  if (!ctx) return Status::Internal("nft_ctx_new failed");
  nft_ctx_output_set_flags(ctx.get(), NFT_CTX_OUTPUT_JSON);
  if (nft_ctx_buffer_output(ctx.get()) != 0 || nft_ctx_buffer_error(ctx.get()) != 0) {
    return Status::Internal("libnftables: cannot buffer output");
  }
  return ctx;
}

Result<std::string> RunOn(nft_ctx* ctx, const std::string& json) {
  int rc = nft_run_cmd_from_buffer(ctx, json.c_str());
  if (rc != 0) {
    const char* err = nft_ctx_get_error_buffer(ctx);
    return NftErrorStatus(err ? err : "");
  }
  const char* out = nft_ctx_get_output_buffer(ctx);
  return std::string(out ? out : "");
}

class LibNftablesRunner final : public NftRunner {
 public:
  Result<std::string> Run(const std::string& json) override {
    if (!change_ctx_) {
      ASSIGN_OR_RETURN(change_ctx_, NewContext());
    }
    auto out = RunOn(change_ctx_.get(), json);
    // Start the next change from a clean context, whatever went wrong here.
    if (!out.ok()) change_ctx_.reset();
    return out;
  }

  Result<std::string> List(const std::string& json) override {
    ASSIGN_OR_RETURN(CtxPtr ctx, NewContext());
    return RunOn(ctx.get(), json);
  }

 private:
  CtxPtr change_ctx_;
};

}  // namespace

Status NftErrorStatus(const std::string& error_text) {
  std::string text = error_text.substr(0, kMaxErrorText);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (text.empty()) text = "libnftables failed without a message";
  if (text.find("No such file or directory") != std::string::npos) {
    return Status(Code::kNotFound, "nft_not_found", "nftables: " + text);
  }
  if (text.find("Operation not permitted") != std::string::npos ||
      text.find("Permission denied") != std::string::npos) {
    return Status::Denied("nft_permission_denied", "nftables needs CAP_NET_ADMIN: " + text);
  }
  return Status(Code::kUnavailable, "nft_failed", "nftables: " + text);
}

std::unique_ptr<NftRunner> NewLibNftablesRunner() { return std::make_unique<LibNftablesRunner>(); }

}  // namespace pinhole
