"""kernel_loader: the only package that talks to the kernel (bpf() through ctypes)."""
from .attach import AttachResult, attach_check
from .loader import kernel_name, load
from .probe import bpf_status
from .unpriv import unprivileged_bpf

__all__ = ["load", "kernel_name", "bpf_status", "attach_check", "AttachResult", "unprivileged_bpf"]
