"""guidebot core: answering, commands, configuration, CLI and server."""
