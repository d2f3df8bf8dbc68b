"""Pieces of the seeded random program generator (``selftests.generator``).

* ``rng``: a version-stable random source (``Rng``) built on ``random.Random.getrandbits``;
* ``semantics``: concrete BPF ALU semantics, used to follow sample values through a chain;
* ``builder``: instruction emission with labels (``Builder``);
* ``profiles``: what each generated program type may touch (context fields, packet, helpers);
* ``context``: one program under construction (``Gen``): program-type profile, maps,
  stack areas, unknown-value sources, memory regions, bounds guards and accesses;
* ``blocks_alu``, ``blocks_mem``, ``blocks_flow``, ``blocks_helpers``: the code blocks a
  program is made of, one kind of verifier stress each.
"""
