# cmake/embed.cmake: files compiled into a binary as a gs_http_asset table
# (gridsync/http.h), so that a program serves its pages' CSS and script with
# nothing read from the file system at run time.
#
#   gs_embed_assets(SOURCES_VAR SYMBOL file...)
#
# writes ${CMAKE_BINARY_DIR}/embed/SYMBOL.c holding
#   const gs_http_asset SYMBOL[];  const size_t SYMBOL_count;
# (each entry: the file's base name, its MIME type from the extension, its
# bytes) and appends that file to the list SOURCES_VAR. The file is made again
# when an asset changes.

set(GS_EMBED_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/embed_run.cmake)

function(gs_embed_assets sources_var symbol)
  set(out ${CMAKE_BINARY_DIR}/embed/${symbol}.c)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DSYMBOL=${symbol} "-DFILES=${ARGN}" -P ${GS_EMBED_SCRIPT}
    DEPENDS ${ARGN} ${GS_EMBED_SCRIPT}
    COMMENT "Embedding ${symbol}"
    VERBATIM)
  set(${sources_var} ${${sources_var}} ${out} PARENT_SCOPE)
endfunction()
