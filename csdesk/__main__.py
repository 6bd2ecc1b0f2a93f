from csdesk.cli import main

main()
