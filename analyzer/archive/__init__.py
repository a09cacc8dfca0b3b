"""Reading inputs: detecting what a file is and streaming the members the analyzer needs."""
