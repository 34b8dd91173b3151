# `make install PREFIX=DIR` (cmake --install build --prefix DIR):
#   bin/onnxllm, lib/libonnxllm.so (+ .a), include/onnxllm.h, lib/pkgconfig/onnxllm.pc,
#   and the ONNX Runtime libraries onnxllm was built against (deps/ort is a private copy;
#   skipped when ORT_ROOT points into /usr). Everything finds its libraries through
#   RUNPATH ($ORIGIN), so `cc x.c $(pkg-config --cflags --libs onnxllm)` runs as is.
include(GNUInstallDirs)
set_target_properties(onnxllm_shared PROPERTIES INSTALL_RPATH "$ORIGIN")
set_target_properties(onnxllm-cli PROPERTIES INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}")
install(TARGETS onnxllm-cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS onnxllm_shared LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS onnxllm ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${CMAKE_SOURCE_DIR}/include/onnxllm.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

option(ONNXLLM_INSTALL_ORT "install the ONNX Runtime libraries next to libonnxllm" ON)
if(ONNXLLM_INSTALL_ORT AND NOT ORT_LIB_DIR MATCHES "^/usr/")
  file(GLOB ONNXLLM_ORT_LIBS ${ORT_LIB_DIR}/libonnxruntime*.so*)
  install(FILES ${ONNXLLM_ORT_LIBS} DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()

# pkg-config: the shared library needs nothing more at link time; a static link
# (pkg-config --static) needs every component's dependencies. The file is written at
# install time, for the prefix actually installed to (cmake --install --prefix).
set(ONNXLLM_PC_LIBS_PRIVATE "-lonnxruntime -lcjson -lutf8proc -lpcre2-8 -lcurl -lcrypto -lpthread -lm")
install(CODE "
  set(ONNXLLM_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  set(CMAKE_INSTALL_LIBDIR ${CMAKE_INSTALL_LIBDIR})
  set(CMAKE_INSTALL_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR})
  set(PROJECT_VERSION ${PROJECT_VERSION})
  set(ONNXLLM_PC_LIBS_PRIVATE \"${ONNXLLM_PC_LIBS_PRIVATE}\")
  configure_file(${CMAKE_SOURCE_DIR}/cmake/onnxllm.pc.in
                 \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig/onnxllm.pc\" @ONLY)
  message(STATUS \"Installing: \$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig/onnxllm.pc\")
")

# The server's API (the Server section of onnxllm.h) as libonnxllm_server.so: it links
# libonnxllm.so and libmicrohttpd; link it as -lonnxllm_server next to pkg-config's line.
if(TARGET onnxllm_server)
  add_library(onnxllm_server_shared SHARED $<TARGET_OBJECTS:onnxllm_server_objs>)
  set_target_properties(onnxllm_server_shared PROPERTIES OUTPUT_NAME onnxllm_server VERSION ${PROJECT_VERSION}
    SOVERSION ${PROJECT_VERSION_MAJOR} INSTALL_RPATH "$ORIGIN" LINK_DEPENDS ${CMAKE_SOURCE_DIR}/src/server/onnxllm_server.map)
  target_link_libraries(onnxllm_server_shared PRIVATE onnxllm_api PkgConfig::MHD Threads::Threads)
  target_link_options(onnxllm_server_shared PRIVATE -Wl,--version-script=${CMAKE_SOURCE_DIR}/src/server/onnxllm_server.map
    -Wl,--no-undefined)
  install(TARGETS onnxllm_server_shared LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()
