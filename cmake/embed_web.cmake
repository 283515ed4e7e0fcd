# Writes a C++ source holding every file under WEB_DIR, so that pinholed
# serves its portal without files installed beside it.
# Usage: cmake -DWEB_DIR=<dir> -DOUTPUT=<file.cc> -P embed_web.cmake
file(GLOB_RECURSE files RELATIVE ${WEB_DIR} ${WEB_DIR}/*)
list(SORT files)
set(body "")
set(table "")
set(n 0)
foreach(rel IN LISTS files)
  file(READ ${WEB_DIR}/${rel} hex HEX)
  # One "\xNN" escape per byte, 32 bytes per literal; adjacent literals join.
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "\\\\x\\1" escaped "${hex}")
  string(REGEX REPLACE "((\\\\x[0-9a-f][0-9a-f]){32})" "\\1\"\n    \"" escaped "${escaped}")
  string(LENGTH "${hex}" hex_len)
  math(EXPR size "${hex_len} / 2")
  string(APPEND body "static const char kFile${n}[] =\n    \"${escaped}\";\n")
  string(APPEND table "      {\"${rel}\", std::string_view(kFile${n}, ${size})},\n")
  math(EXPR n "${n} + 1")
endforeach()
file(WRITE ${OUTPUT}.tmp
"// Generated from web/ by cmake/embed_web.cmake; do not edit.
#include \"http/portal.h\"

namespace pinhole {
namespace {
${body}}  // namespace

std::vector<PortalFile> EmbeddedPortalFiles() {
  return {
${table}  };
}

}  // namespace pinhole
")
# Leave the output untouched when nothing changed, so nothing rebuilds.
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUTPUT}.tmp)
