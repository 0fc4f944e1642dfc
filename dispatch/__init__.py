"""Street Whistle: case dispatch for 12345 hotlines (街乡吹哨、部门报到)."""
