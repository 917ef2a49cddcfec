"""Seeing inside a run: the Perfetto/Chrome JSON trace (`--trace`), QEMU-style text
logging (`-d`/`-D`) and their shared vocabulary. Both are `KernelTracer`s the kernel
reports to; `Tracers` fans one event stream out to several of them."""
