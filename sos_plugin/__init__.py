"""analyze-sos sos plugin: sos_plugin/libvirt_guests.py is copied into the host sos by install.py."""
