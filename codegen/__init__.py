"""codegen: deploy quantized neural networks to microcontrollers as generated C."""

__version__ = "0.1.0"
