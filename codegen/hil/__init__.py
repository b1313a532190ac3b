"""Hardware in the loop: serial protocol, client, validation against the host, noisy-link proxy."""
