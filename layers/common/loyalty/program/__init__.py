"""Programme rules: versioned data that says how purchases turn into points and up the tree."""
