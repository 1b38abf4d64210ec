from smmpanel.cli import main

main()
