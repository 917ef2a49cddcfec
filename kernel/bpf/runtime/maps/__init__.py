"""BPF maps (ABI section 5): one module per map type, plus `MapTable`."""

from kernel.bpf.runtime.maps.array import ArrayMap
from kernel.bpf.runtime.maps.base import BpfMap
from kernel.bpf.runtime.maps.hash import HashMap
from kernel.bpf.runtime.maps.ringbuf import RingBufMap, record_size
from kernel.bpf.runtime.maps.table import MapTable
from kernel.bpf.runtime.maps.timeseries import TimeseriesMap

__all__ = [
    "ArrayMap",
    "BpfMap",
    "HashMap",
    "MapTable",
    "RingBufMap",
    "TimeseriesMap",
    "record_size",
]
