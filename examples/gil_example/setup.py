"""Builds the one extension, gil_example._loops; the metadata is in pyproject.toml."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("gil_example._loops", ["src/gil_example/_loops.c"])])
