"""Deployment: the nginx front proxy, Kubernetes manifests and `make prod`, the topology on one machine."""
