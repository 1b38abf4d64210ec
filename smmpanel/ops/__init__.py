"""Operations: the health check and the Prometheus metrics, for load balancers and monitoring."""
