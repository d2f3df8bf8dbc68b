"""The context arguments of BPF iterator targets (measured by scripts/measure_iter_args.py on
Linux 6.18.44-fc-v782; data only).

``ARGS[target][arg]`` is (the register type as the log prints it, kernel struct name) for each
pointer argument the target registers; the other arguments are read through the kernel's BTF. A target missing
here could not be loaded without more (a map to iterate over): not modelled.
"""

ARGS: dict[str, dict[int, tuple[str, str]]] = {
    'bpf_link': {1: ('ptr_or_null_', 'bpf_link')},
    'bpf_map': {1: ('trusted_ptr_or_null_', 'bpf_map')},
    'bpf_prog': {1: ('ptr_or_null_', 'bpf_prog')},
    'cgroup': {1: ('trusted_ptr_or_null_', 'cgroup')},
    'dmabuf': {1: ('ptr_or_null_', 'dma_buf')},
    'ipv6_route': {1: ('ptr_or_null_', 'fib6_info')},
    'kmem_cache': {1: ('trusted_ptr_or_null_', 'kmem_cache')},
    'ksym': {1: ('ptr_or_null_', 'kallsym_iter')},
    'netlink': {1: ('ptr_or_null_', 'netlink_sock')},
    'task': {1: ('trusted_ptr_or_null_', 'task_struct')},
    'task_file': {1: ('ptr_or_null_', 'task_struct'), 3: ('ptr_or_null_', 'file')},
    'task_vma': {1: ('ptr_or_null_', 'task_struct'), 2: ('ptr_or_null_', 'vm_area_struct')},
    'tcp': {1: ('trusted_ptr_or_null_', 'sock_common')},
    'udp': {1: ('trusted_ptr_or_null_', 'udp_sock')},
    'unix': {1: ('ptr_or_null_', 'unix_sock')},
}
