from jiraflow.cli import main

raise SystemExit(main())
