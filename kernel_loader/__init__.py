"""kernel_loader: the only package that talks to the kernel (bpf() through ctypes)."""
from .loader import kernel_name, load
from .probe import bpf_status

__all__ = ["load", "kernel_name", "bpf_status"]
