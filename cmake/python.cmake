# The Python package: the nanobind extension embcluster._core linking the library, and the
# package's Python files beside it in ${PROJECT_BINARY_DIR}/python/embcluster (what the pytest
# suite imports). Built when a Python interpreter with nanobind is found: the project's .venv
# (scripts/python-env.sh) first, else the interpreter scikit-build-core runs.
# EMBCLUSTER_PYTHON_PACKAGE: AUTO (default), ON (an error when nothing is found) or OFF.
set(EMBCLUSTER_PYTHON_PACKAGE AUTO CACHE STRING "Build the Python package: AUTO, ON or OFF")
set_property(CACHE EMBCLUSTER_PYTHON_PACKAGE PROPERTY STRINGS AUTO ON OFF)
set(EMBCLUSTER_HAVE_PYTHON OFF)
if(NOT EMBCLUSTER_PYTHON_PACKAGE STREQUAL "OFF")
  if(NOT DEFINED Python_EXECUTABLE AND EXISTS ${PROJECT_SOURCE_DIR}/.venv/bin/python)
    set(Python_EXECUTABLE ${PROJECT_SOURCE_DIR}/.venv/bin/python)
  endif()
  find_package(Python 3.9 COMPONENTS Interpreter Development.Module QUIET)
  if(Python_FOUND)
    execute_process(COMMAND ${Python_EXECUTABLE} -m nanobind --cmake_dir
                    OUTPUT_VARIABLE EMBCLUSTER_NANOBIND_DIR OUTPUT_STRIP_TRAILING_WHITESPACE
                    RESULT_VARIABLE nanobind_rc ERROR_QUIET)
    if(nanobind_rc EQUAL 0)
      find_package(nanobind CONFIG QUIET PATHS ${EMBCLUSTER_NANOBIND_DIR} NO_DEFAULT_PATH)
    endif()
  endif()
  if(nanobind_FOUND)
    set(EMBCLUSTER_HAVE_PYTHON ON)
  elseif(EMBCLUSTER_PYTHON_PACKAGE STREQUAL "ON")
    message(FATAL_ERROR "EMBCLUSTER_PYTHON_PACKAGE=ON but no Python with nanobind was found "
                        "(scripts/python-env.sh makes .venv with it)")
  endif()
endif()
message(STATUS "embcluster: Python package ${EMBCLUSTER_HAVE_PYTHON} ${Python_EXECUTABLE}")

if(EMBCLUSTER_HAVE_PYTHON)
  set(EMBCLUSTER_PY_DIR ${PROJECT_BINARY_DIR}/python/embcluster)
  nanobind_add_module(embcluster_python NB_STATIC
    src/python/module.cpp src/python/kmeans.cpp src/python/dbscan.cpp src/python/metrics.cpp)
  target_link_libraries(embcluster_python PRIVATE embcluster)
  target_include_directories(embcluster_python PRIVATE ${PROJECT_SOURCE_DIR}/src/python)
  # The library and the CUDA module lie beside the extension in an installed package.
  set_target_properties(embcluster_python PROPERTIES OUTPUT_NAME _core
                        LIBRARY_OUTPUT_DIRECTORY ${EMBCLUSTER_PY_DIR} INSTALL_RPATH "$ORIGIN")
  file(GLOB EMBCLUSTER_PY_FILES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/python/embcluster/*.py)
  set(copied)
  foreach(f ${EMBCLUSTER_PY_FILES})
    get_filename_component(name ${f} NAME)
    add_custom_command(OUTPUT ${EMBCLUSTER_PY_DIR}/${name} DEPENDS ${f}
      COMMAND ${CMAKE_COMMAND} -E copy_if_different ${f} ${EMBCLUSTER_PY_DIR}/${name})
    list(APPEND copied ${EMBCLUSTER_PY_DIR}/${name})
  endforeach()
  add_custom_target(embcluster_python_files ALL DEPENDS ${copied})
  add_dependencies(embcluster_python embcluster_python_files)

  if(SKBUILD)
    # The wheel: the package with the library (and the CUDA module) beside the extension. A wheel
    # keeps no symbolic links: one libembcluster.so, named as the extension asks for it.
    set_property(TARGET embcluster PROPERTY VERSION)
    set_property(TARGET embcluster PROPERTY SOVERSION)
    install(TARGETS embcluster_python LIBRARY DESTINATION embcluster)
    install(TARGETS embcluster LIBRARY DESTINATION embcluster NAMELINK_SKIP)
    if(TARGET embcluster_cuda)
      install(TARGETS embcluster_cuda LIBRARY DESTINATION embcluster)
    endif()
    install(FILES ${EMBCLUSTER_PY_FILES} DESTINATION embcluster)
  endif()
endif()
