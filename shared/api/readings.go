package api

import "net/http"

func (s *Server) registerReadings(mux *http.ServeMux) {}
