# Writes OUTPUT, a C++ source defining `const char NAME[]` with the contents
# of INPUT (a text file shipped with Pinhole, e.g. data/common-passwords.txt),
# so that pinholed needs no data files at run time.
file(READ ${INPUT} content)
string(FIND "${content}" ")pinhole_text\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter")
endif()
file(WRITE ${OUTPUT} "// Generated from ${INPUT} by cmake/embed_text.cmake.\n"
                     "extern const char ${NAME}[];\n"
                     "const char ${NAME}[] = R\"pinhole_text(${content})pinhole_text\";\n")
