from pynenc_dynamodb.cli import main

raise SystemExit(main())
