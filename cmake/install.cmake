# Installation: headers, the library, the CUDA module, the command and the CMake package
# embcluster::embcluster (find_package(embcluster)); CPack makes .tar.gz and .deb from the same.
include(CMakePackageConfigHelpers)

install(TARGETS embcluster EXPORT embclusterTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime
                NAMELINK_COMPONENT development
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS embcluster_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
if(TARGET embcluster_cuda)
  # Beside the library, where the loader looks for it first.
  install(TARGETS embcluster_cuda LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime)
endif()
install(PROGRAMS ${PROJECT_SOURCE_DIR}/python/embcluster_report.py
        DESTINATION ${CMAKE_INSTALL_DATADIR}/embcluster COMPONENT runtime)
install(FILES ${PROJECT_SOURCE_DIR}/python/embcluster_figures.py
        DESTINATION ${CMAKE_INSTALL_DATADIR}/embcluster COMPONENT runtime)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/embcluster
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT development)

set(EMBCLUSTER_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/embcluster)
install(EXPORT embclusterTargets NAMESPACE embcluster:: DESTINATION ${EMBCLUSTER_CMAKE_DIR}
        COMPONENT development)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/embclusterConfig.cmake.in
  ${PROJECT_BINARY_DIR}/embclusterConfig.cmake INSTALL_DESTINATION ${EMBCLUSTER_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/embclusterConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/embclusterConfig.cmake
              ${PROJECT_BINARY_DIR}/embclusterConfigVersion.cmake
        DESTINATION ${EMBCLUSTER_CMAKE_DIR} COMPONENT development)

# Packages: cpack -G TGZ (bin/, lib/, include/ under one folder), cpack -G DEB (under /usr).
set(CPACK_PACKAGE_NAME embcluster)
set(CPACK_PACKAGE_VENDOR embcluster)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Clustering of embeddings: K-means, DBSCAN and silhouette on CPU and CUDA")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "embcluster maintainers <embcluster@localhost>")
set(CPACK_GENERATOR TGZ DEB)
set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# The Debian runtime libraries the library links (the CUDA module needs the CUDA toolkit's
# runtime and cuBLAS, which come from NVIDIA's packages, and is only opened where a GPU is).
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libc6, libstdc++6, libgomp1, libopenblas0 | libopenblas0-pthread, libhdf5-103-1 | libhdf5-103")
include(CPack)
