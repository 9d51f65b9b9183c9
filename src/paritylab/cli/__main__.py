from paritylab.cli.main import main

raise SystemExit(main())
