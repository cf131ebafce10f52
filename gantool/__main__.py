from gantool.cli.app import main

main()
