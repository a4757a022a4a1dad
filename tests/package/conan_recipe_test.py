#!/usr/bin/env python3
"""The Conan recipe's own logic, without Conan (not packaged in Debian 12).

Loads conanfile.py against a stand-in for the few `conan` names it imports and checks:
  - set_version() reads include/hft/version.hpp;
  - validate() accepts Linux + GCC >= 11 / Clang >= 14 with C++20 or later (or no cppstd),
    and refuses, naming the reason: another OS, another compiler, an older compiler, and
    the gnu17 that `conan profile detect` writes (docs/packaging.md's -s compiler.cppstd=20).
What it cannot check: Conan itself (profiles, the cache, CMakeDeps); see docs/packaging.md.
"""
import importlib.util
import os
import re
import sys
import types

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


class ConanInvalidConfiguration(Exception):
    pass


def _install_stand_ins():
    def check_min_cppstd(conanfile, minimum):
        value = conanfile.settings.compiler.get_safe("cppstd")
        if value is not None and int(str(value).replace("gnu", "")) < minimum:
            raise ConanInvalidConfiguration(f"Current cppstd ({value}) is lower than the required C++ standard ({minimum}).")

    class Version:
        def __init__(self, v):
            self.parts = tuple(int(x) for x in str(v).split("."))

        def __lt__(self, other):
            other = other if isinstance(other, Version) else Version(other)
            n = max(len(self.parts), len(other.parts))
            pad = lambda p: p + (0,) * (n - len(p))
            return pad(self.parts) < pad(other.parts)

    modules = {
        "conan": types.ModuleType("conan"),
        "conan.errors": types.ModuleType("conan.errors"),
        "conan.tools": types.ModuleType("conan.tools"),
        "conan.tools.build": types.ModuleType("conan.tools.build"),
        "conan.tools.files": types.ModuleType("conan.tools.files"),
        "conan.tools.layout": types.ModuleType("conan.tools.layout"),
        "conan.tools.scm": types.ModuleType("conan.tools.scm"),
    }
    modules["conan"].ConanFile = object
    modules["conan.errors"].ConanInvalidConfiguration = ConanInvalidConfiguration
    modules["conan.tools.build"].check_min_cppstd = check_min_cppstd
    modules["conan.tools.files"].copy = lambda *a, **k: None
    modules["conan.tools.files"].load = lambda conanfile, path: open(path, encoding="utf-8").read()
    modules["conan.tools.layout"].basic_layout = lambda *a, **k: None
    modules["conan.tools.scm"].Version = Version
    sys.modules.update(modules)


class Value(str):
    pass


class Compiler:
    def __init__(self, name, version, cppstd):
        self.name, self.version, self.cppstd = name, version, cppstd

    def __str__(self):
        return self.name

    def get_safe(self, key):
        return getattr(self, key)


class Settings:
    def __init__(self, os_name, compiler, version, cppstd):
        self.os = Value(os_name)
        self.compiler = Compiler(compiler, version, cppstd)


def load_recipe():
    _install_stand_ins()
    spec = importlib.util.spec_from_file_location("hft_conanfile", os.path.join(ROOT, "conanfile.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.HftConan


def main():
    recipe = load_recipe()
    failures = 0

    r = recipe()
    r.recipe_folder = ROOT
    r.set_version()
    text = open(os.path.join(ROOT, "include", "hft", "version.hpp"), encoding="utf-8").read()
    want = ".".join(re.search(rf"^#define HFT_VERSION_{p} (\d+)$", text, re.M).group(1) for p in ("MAJOR", "MINOR", "PATCH"))
    if r.version != want:
        print(f"FAIL set_version: {r.version} != {want}")
        failures += 1
    else:
        print(f"ok   set_version reads version.hpp: {r.version}")

    cases = [
        # (os, compiler, version, cppstd, refused?, text the refusal must contain)
        ("Linux", "gcc", "12", "20", False, ""),
        ("Linux", "gcc", "11", "gnu20", False, ""),
        ("Linux", "gcc", "13.2", "23", False, ""),
        ("Linux", "clang", "14", "20", False, ""),
        ("Linux", "clang", "16", None, False, ""),
        ("Linux", "gcc", "12", "gnu17", True, "lower than the required C++ standard (20)"),
        ("Linux", "gcc", "10", "20", True, "needs gcc >= 11"),
        ("Linux", "clang", "13", "20", True, "needs clang >= 14"),
        ("Windows", "msvc", "193", "20", True, "supports Linux only"),
        ("Macos", "apple-clang", "15", "20", True, "supports Linux only"),
        ("Linux", "intel-cc", "2023", "20", True, "supports GCC and Clang only"),
    ]
    for os_name, compiler, version, cppstd, refused, reason in cases:
        r = recipe()
        r.ref = "hft/" + want
        r.settings = Settings(os_name, compiler, version, cppstd)
        try:
            r.validate()
            got, msg = False, ""
        except ConanInvalidConfiguration as e:
            got, msg = True, str(e)
        label = f"{os_name} {compiler} {version} cppstd={cppstd}"
        if got != refused or (refused and reason not in msg):
            print(f"FAIL validate({label}): refused={got} {msg!r}, want refused={refused} with {reason!r}")
            failures += 1
        else:
            print(f"ok   validate({label}): {'refused: ' + msg if got else 'accepted'}")
    print(f"conan_recipe_test: {len(cases) + 1} checks, {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
