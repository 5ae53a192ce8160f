"""Settings: quota rules, flag thresholds, counted states, branding."""
