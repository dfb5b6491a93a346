"""End-to-end tests: the installed app in a real pty (tmux), over SSH, with a real keyring."""
