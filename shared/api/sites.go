package api

import "net/http"

func (s *Server) registerSites(mux *http.ServeMux) {}
