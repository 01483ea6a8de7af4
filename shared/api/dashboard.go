package api

import "net/http"

func (s *Server) registerDashboard(mux *http.ServeMux) {}
