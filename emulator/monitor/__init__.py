"""The QEMU-style monitor (`--monitor`): human commands and a JSON request mode,
served between CPU slices. `inspect` turns kernel state into plain data for both."""
