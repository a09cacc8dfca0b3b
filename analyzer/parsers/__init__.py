"""Parsers for one input format each (libvirt domain XML, Nova metadata, ...)."""
