package api

import "net/http"

func (s *Server) registerOrganizations(mux *http.ServeMux) {}
