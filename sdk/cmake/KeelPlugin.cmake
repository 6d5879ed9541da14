# keel_add_plugin(NAME SOURCES... [LIBRARIES libs...])
#
# Builds a keel plugin: a MODULE library named NAME.so (no "lib" prefix)
# that sees only the SDK headers, exports only its entry symbol, resolves
# every symbol at link time (-Wl,--no-undefined: it links no host symbol)
# and is compiled with -ffp-contract=off for reproducible arithmetic (and
# -DKEEL_FP_CONTRACT_OFF=1, which KEEL_PLUGIN_HEADER records).
# Inside the keel tree it also lands in the build tree's plugin folder and
# is installed with the built-ins.
function(keel_add_plugin name)
  cmake_parse_arguments(KP "" "" "SOURCES;LIBRARIES" ${ARGN})
  set(srcs ${KP_SOURCES} ${KP_UNPARSED_ARGUMENTS})
  add_library(${name} MODULE ${srcs})
  if(TARGET keel::sdk)
    target_link_libraries(${name} PRIVATE keel::sdk)
  else()
    target_link_libraries(${name} PRIVATE keel_sdk)
  endif()
  target_link_libraries(${name} PRIVATE ${KP_LIBRARIES} m)
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    C_STANDARD 11
    C_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON)
  target_compile_options(${name} PRIVATE -ffp-contract=off -fno-fast-math)
  # Recorded in the descriptor (KEEL_BUILD_FP_CONTRACT_OFF): no compiler
  # macro says whether contraction is off.
  target_compile_definitions(${name} PRIVATE KEEL_FP_CONTRACT_OFF=1)
  target_link_options(${name} PRIVATE -Wl,--no-undefined)
  if(DEFINED KEEL_BUILD_PLUGIN_DIR)
    set_target_properties(${name} PROPERTIES
      LIBRARY_OUTPUT_DIRECTORY ${KEEL_BUILD_PLUGIN_DIR})
    install(TARGETS ${name} LIBRARY DESTINATION ${KEEL_INSTALL_PLUGIN_DIR})
    set_property(GLOBAL APPEND PROPERTY KEEL_PLUGIN_TARGETS ${name})
    if(TARGET keel_warnings)
      target_link_libraries(${name} PRIVATE keel_warnings)
    endif()
  endif()
endfunction()
