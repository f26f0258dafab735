"""Detection: Sigma rules and correlation rules over the boundary's event batches."""
