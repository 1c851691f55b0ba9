"""Pure signals: normalisation, successor patterns, pair scoring, predicted handles."""
