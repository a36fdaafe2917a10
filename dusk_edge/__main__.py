from dusk_edge.cli import main

main()
