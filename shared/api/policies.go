package api

import "net/http"

func (s *Server) registerPolicies(mux *http.ServeMux) {}
