import sys

from analyzer.fleet.cli import main

sys.exit(main())
