"""analyze-sos: find, correlate and explain libvirt/Nova guests in sosreports."""

__version__ = "0.1.0"
