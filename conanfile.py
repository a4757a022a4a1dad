# Conan 2 recipe for hft: a header-only library, packaged from this source tree (no download).
#   conan create . --build=missing -s compiler.cppstd=20     (builds and runs test_package/)
# `conan profile detect` writes compiler.cppstd=gnu17 for today's GCC, which validate()
# refuses: pass -s compiler.cppstd=20 (or gnu20, or later), or set it in the profile
# (docs/packaging.md). Conventions follow conan-center's header-only C++20 recipes.
import os
import re

from conan import ConanFile
from conan.errors import ConanInvalidConfiguration
from conan.tools.build import check_min_cppstd
from conan.tools.files import copy, load
from conan.tools.layout import basic_layout
from conan.tools.scm import Version

required_conan_version = ">=2.0"


class HftConan(ConanFile):
    name = "hft"
    license = "MIT"
    description = "Header-only C++20 low-latency concurrency and trading primitives"
    topics = ("lock-free", "queue", "disruptor", "low-latency", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    exports_sources = "include/*", "LICENSE"
    no_copy_source = True

    @property
    def _min_cppstd(self):
        return 20

    @property
    def _compilers_minimum_version(self):
        # The oldest compilers CI builds and tests (scripts/test.sh: the gcc11 preset, and
        # clang 14, Debian bookworm's default).
        return {"gcc": "11", "clang": "14"}

    def set_version(self):
        # The version is written once, in include/hft/version.hpp.
        text = load(self, os.path.join(self.recipe_folder, "include", "hft", "version.hpp"))
        parts = []
        for part in ("MAJOR", "MINOR", "PATCH"):
            m = re.search(rf"^#define HFT_VERSION_{part} (\d+)$", text, re.MULTILINE)
            if not m:
                raise ConanInvalidConfiguration(f"cannot read HFT_VERSION_{part} from include/hft/version.hpp")
            parts.append(m.group(1))
        self.version = ".".join(parts)

    def layout(self):
        basic_layout(self, src_folder=".")

    def package_id(self):
        self.info.clear()

    def validate(self):
        if self.settings.os != "Linux":
            raise ConanInvalidConfiguration(
                f"{self.ref} supports Linux only (futex, pthread affinity, mmap, /proc); got os={self.settings.os}")
        compiler = str(self.settings.compiler)
        minimum = self._compilers_minimum_version.get(compiler)
        if minimum is None:
            raise ConanInvalidConfiguration(f"{self.ref} supports GCC and Clang only; got compiler={compiler}")
        if Version(self.settings.compiler.version) < minimum:
            raise ConanInvalidConfiguration(
                f"{self.ref} needs {compiler} >= {minimum} (C++{self._min_cppstd}); "
                f"got {compiler} {self.settings.compiler.version}")
        if self.settings.compiler.get_safe("cppstd"):
            check_min_cppstd(self, self._min_cppstd)

    def build(self):
        pass

    def package(self):
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))
        copy(self, "*.hpp", os.path.join(self.source_folder, "include"),
             os.path.join(self.package_folder, "include"))

    def package_info(self):
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        self.cpp_info.set_property("cmake_file_name", "hft")
        self.cpp_info.set_property("cmake_target_name", "hft::hft")
        self.cpp_info.set_property("pkg_config_name", "hft")
        self.cpp_info.system_libs = ["pthread"]
