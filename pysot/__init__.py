"""Ta-SiamRPN++ library: models, tracker, training data."""
