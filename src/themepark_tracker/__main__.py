from themepark_tracker.cli import main

main()
