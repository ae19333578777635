"""The Inside tab."""
