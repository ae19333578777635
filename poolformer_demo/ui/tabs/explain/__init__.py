"""The Explain tab."""
