# Conan 2 recipe for hft: a header-only library, packaged from this source tree (no download).
#   conan create . --build=missing        (builds and runs test_package/)
import os

from conan import ConanFile
from conan.tools.build import check_min_cppstd
from conan.tools.files import copy
from conan.tools.layout import basic_layout


class HftConan(ConanFile):
    name = "hft"
    version = "0.1.0"
    license = "MIT"
    description = "Header-only C++20 low-latency concurrency and trading primitives"
    topics = ("lock-free", "queue", "disruptor", "low-latency", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    exports_sources = "include/*", "LICENSE"
    no_copy_source = True

    def layout(self):
        basic_layout(self, src_folder=".")

    def validate(self):
        check_min_cppstd(self, 20)

    def package_id(self):
        self.info.clear()

    def package(self):
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))
        copy(self, "*.hpp", os.path.join(self.source_folder, "include"),
             os.path.join(self.package_folder, "include"))

    def package_info(self):
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        self.cpp_info.set_property("cmake_file_name", "hft")
        self.cpp_info.set_property("cmake_target_name", "hft::hft")
        if self.settings.os in ("Linux", "FreeBSD"):
            self.cpp_info.system_libs = ["pthread"]
