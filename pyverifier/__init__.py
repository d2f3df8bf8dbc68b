"""pyverifier: the Linux BPF verifier re-implemented in pure Python (no syscalls, stdlib only)."""
__version__ = "0.1.0"
VERIFIER_NAME = f"pyverifier-{__version__}"

from .verifier import verify  # noqa: E402

__all__ = ["verify", "VERIFIER_NAME", "__version__"]
