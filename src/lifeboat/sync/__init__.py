"""The one-way sync: snapshot (read), plan (pure diff), apply (the only writer)."""
