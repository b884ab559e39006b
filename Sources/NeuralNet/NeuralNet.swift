// NeuralNet: see README.md in this folder.
