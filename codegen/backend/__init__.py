"""Backends: lower the IR to code for a target runtime. ``native`` generates C calling our own kernels."""
