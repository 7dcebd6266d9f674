"""Microsoft Teams as admins install it: the app package (`k8or teams package`)."""
