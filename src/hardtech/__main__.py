from hardtech.presentation.cli.app import main

main()
